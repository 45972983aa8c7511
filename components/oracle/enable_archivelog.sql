WHENEVER SQLERROR EXIT SQL.SQLCODE
WHENEVER OSERROR EXIT FAILURE
-- Runs only while the database is in NOARCHIVELOG mode: the switch needs a restart into MOUNT.
-- XStream reads changes from the redo logs, so they must be archived rather than overwritten.
SET VERIFY OFF FEEDBACK OFF
CONNECT / AS SYSDBA
SHUTDOWN IMMEDIATE
STARTUP MOUNT
ALTER DATABASE ARCHIVELOG;
ALTER DATABASE OPEN;
EXIT
