WHENEVER SQLERROR EXIT SQL.SQLCODE
WHENEVER OSERROR EXIT FAILURE
-- CDB-wide settings XStream capture needs; as SYSDBA in CDB$ROOT. Each statement is safe to repeat.
SET VERIFY OFF FEEDBACK OFF
CONNECT / AS SYSDBA
ALTER SYSTEM SET enable_goldengate_replication = TRUE SCOPE = BOTH;
-- Archived logs go to the recovery area on the data volume. Its size caps them (ORA-00257 stops the
-- database when it is full), and the hourly cleanup timer deletes the old ones. Size first: setting the
-- destination without a size fails.
ALTER SYSTEM SET db_recovery_file_dest_size = ${recovery_area_gb}G SCOPE = BOTH;
ALTER SYSTEM SET db_recovery_file_dest = '${recovery_area_dir}' SCOPE = BOTH;
EXIT
