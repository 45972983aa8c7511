WHENEVER SQLERROR EXIT SQL.SQLCODE
WHENEVER OSERROR EXIT FAILURE
-- Opens the application PDB for good and turns on supplemental logging; as SYSDBA in CDB$ROOT.
SET VERIFY OFF FEEDBACK OFF
CONNECT / AS SYSDBA
DECLARE
  v_open_mode v$pdbs.open_mode%TYPE;
  v_log_min   v$database.supplemental_log_data_min%TYPE;
  v_log_all   v$database.supplemental_log_data_all%TYPE;
BEGIN
  SELECT open_mode INTO v_open_mode FROM v$pdbs WHERE name = '${pdb_name}';
  IF v_open_mode <> 'READ WRITE' THEN
    IF v_open_mode <> 'MOUNTED' THEN
      EXECUTE IMMEDIATE 'ALTER PLUGGABLE DATABASE ${pdb_name} CLOSE IMMEDIATE';
    END IF;
    EXECUTE IMMEDIATE 'ALTER PLUGGABLE DATABASE ${pdb_name} OPEN READ WRITE';
  END IF;
  -- Reopen the PDB read-write whenever the container (and with it the CDB) restarts.
  EXECUTE IMMEDIATE 'ALTER PLUGGABLE DATABASE ${pdb_name} SAVE STATE';

  SELECT supplemental_log_data_min, supplemental_log_data_all INTO v_log_min, v_log_all FROM v$database;
  IF v_log_min = 'NO' THEN
    EXECUTE IMMEDIATE 'ALTER DATABASE ADD SUPPLEMENTAL LOG DATA';
  END IF;
  -- The CDC connector needs every column of a changed row. The captured tables do not exist yet at this
  -- step (app_schema.sql creates them after the users), so table-level ALL COLUMNS logging cannot be set
  -- here; database-level ALL COLUMNS covers them and any table a later migration adds, at the cost of more
  -- redo, which is negligible for this demo database.
  IF v_log_all = 'NO' THEN
    EXECUTE IMMEDIATE 'ALTER DATABASE ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS';
  END IF;
END;
/
EXIT
