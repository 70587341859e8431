-- 011_run_tty.sql - whether a run's program had a terminal.
--
-- run/start with tty: true gives the program a pseudo-terminal (the IDE
-- does; API clients get pipes unless they ask). Its output is then one
-- stream, stored as 'stdout' in run_logs, in exactly the order the program
-- wrote it, with the terminal's line ends ("\r\n" for each "\n"); through
-- pipes stdout and stderr are kept apart with the program's own "\n".
-- run/get and run/history show the flag so that a reader of run/logs knows
-- which it has. Runs from before this migration had pipes: false.

ALTER TABLE runs ADD COLUMN tty boolean NOT NULL DEFAULT false;
