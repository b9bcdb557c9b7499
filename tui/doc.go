// Package tui is the shell of oidcctl's console: the Screen contract, the
// root model that navigates between screens, the global key map, the
// semantic styles and the widgets that screens share (a generic filterable
// table, the generic list screen every list of the console is built on, a
// confirmation dialog, a spinner status line, a pager and a text builder
// for pages longer than the screen, toasts, QR codes, OSC 52 copy).
//
// tui never imports the screens: the command line builds them and hands
// them to New or Run, one per top-level tab.
//
// # Messages
//
// Screens talk to the shell with commands: Push and Pop move along the
// navigation stack of the current tab, ShowError and Toast write the status
// line, Copy puts text on the terminal's clipboard. The results of a
// screen's own commands implement Addressed, so that the shell hands them
// to that screen wherever it is, and drops them once the screen is gone
// (popped): a slow provider answer never lands on the wrong screen.
//
// Everything else that is not a key (spinner ticks, form internals) goes
// to the active screen only; keys too. A screen that becomes active again
// (its tab is chosen, the screen above it popped) gets an ActivatedMsg and
// usually reloads.
//
// # Lists
//
// A List[K, V] is a whole list screen made from a ListConfig: how to load
// the items, key and render them, the detail under the table, and the
// Actions of its keys (ask, then open a screen, run behind a spinner, or
// do at once). Confirmation, the spinner, the reload after an action and
// dropping older loads are written once, here. An action that opens a
// form reads the item afresh (Reread), never from the row shown, which can
// be older than the last save. Screens that are not lists use Load and
// Take for the same load sequence. A Form that saved an item sends
// SelectMsg after it is popped, and the list under it puts its cursor on
// that item once a load brings it.
//
// # Work in progress
//
// A Form that Watches its values asks "Discard changes?" before esc throws
// changes away; it is a Guard, so the shell hands it ctrl+c instead of
// quitting while it has changes (a second ctrl+c quits).
//
// # Layout and keys
//
// Row 1 is the tab bar, row 2 the screen's title (a breadcrumb of the
// stack), then the screen, then the status line (errors and toasts, one to
// three rows, or the ":name" prompt) and the help line. The tab bar names
// every tab, abbreviated (Shorter) where the full names do not fit; `:`
// and a name goes to a tab, as in k9s. The help line always ends with
// "/ filter", "? help" and "q quit"; a screen's own keys are cut first.
// Every screen works at 80×24; below that the shell says so instead of
// cutting columns.
package tui
