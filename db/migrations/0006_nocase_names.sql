-- 0005: names that differ only in case ("base" and "BASE") name one thing.
-- Two such profiles, accounts, webservices or users would be mistaken for
-- each other in lists, logs and by the people typing them, so they may not
-- both exist. NOCASE folds ASCII letters only, as the names of profiles,
-- accounts and webservices are ASCII; a user login may be any text.
--
-- A database that already holds such names cannot get these indexes: Open
-- checks for them before this step (db/names.go) and names them.
CREATE UNIQUE INDEX profiles_name_nocase ON profiles (name COLLATE NOCASE);
CREATE UNIQUE INDEX accounts_name_nocase ON accounts (name COLLATE NOCASE);
CREATE UNIQUE INDEX webservices_name_nocase ON webservices (name COLLATE NOCASE);
CREATE UNIQUE INDEX users_login_nocase ON users (login COLLATE NOCASE);
