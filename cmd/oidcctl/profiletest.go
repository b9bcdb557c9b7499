package main

import "github.com/spf13/cobra"

func (a *app) profileTest() *cobra.Command { return &cobra.Command{Use: "test NAME"} }
