WHENEVER SQLERROR EXIT SQL.SQLCODE
WHENEVER OSERROR EXIT FAILURE
-- The XStream outbound server the connector attaches to; as the capture admin in CDB$ROOT.
SET VERIFY OFF FEEDBACK OFF
CONNECT ${cdc_admin_user}/"&cdc_admin_password"
DECLARE
  v_exists  PLS_INTEGER;
  v_tables  DBMS_UTILITY.UNCL_ARRAY;
  v_schemas DBMS_UTILITY.UNCL_ARRAY;
BEGIN
  SELECT COUNT(*) INTO v_exists FROM dba_xstream_outbound WHERE server_name = '${outbound_server}';
  IF v_exists = 0 THEN
    -- Schema rules, not table rules: they also cover tables a later migration of the app creates
    -- (table rules prepare only the named tables for instantiation). The connector's table.include.list
    -- narrows the capture to AUTH_USER and USER_TRANSACTION, which app_schema.sql created just before.
    v_tables(1)  := NULL;
    v_schemas(1) := '${app_schema}';
    DBMS_XSTREAM_ADM.CREATE_OUTBOUND(
      server_name           => '${outbound_server}',
      table_names           => v_tables,
      schema_names          => v_schemas,
      source_container_name => '${pdb_name}');
  END IF;
  DBMS_XSTREAM_ADM.ALTER_OUTBOUND(
    server_name  => '${outbound_server}',
    connect_user => '${cdc_connect_user}');
END;
/
EXIT
