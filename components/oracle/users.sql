WHENEVER SQLERROR EXIT SQL.SQLCODE
WHENEVER OSERROR EXIT FAILURE
-- Users: the XStream capture admin and connect user (common, all containers) and the app's schema in the
-- PDB. A user that exists gets its password reset to the one in Parameter Store, so re-runs converge.
-- Passwords arrive as substitution variables on stdin; VERIFY OFF keeps them out of the output.
SET VERIFY OFF FEEDBACK OFF
CONNECT / AS SYSDBA
DECLARE
  PROCEDURE ensure_user(p_user VARCHAR2, p_password VARCHAR2, p_options VARCHAR2) IS
    v_exists PLS_INTEGER;
  BEGIN
    SELECT COUNT(*) INTO v_exists FROM dba_users WHERE username = p_user;
    EXECUTE IMMEDIATE CASE v_exists WHEN 0 THEN 'CREATE' ELSE 'ALTER' END
      || ' USER ' || p_user || ' IDENTIFIED BY "' || p_password || '" ' || p_options;
  END;
BEGIN
  ensure_user('${cdc_admin_user}', '&cdc_admin_password',
              'DEFAULT TABLESPACE users QUOTA UNLIMITED ON users CONTAINER = ALL');
  ensure_user('${cdc_connect_user}', '&cdc_connect_password',
              'DEFAULT TABLESPACE users QUOTA UNLIMITED ON users CONTAINER = ALL');
END;
/
GRANT CREATE SESSION, SET CONTAINER TO ${cdc_admin_user} CONTAINER = ALL;
BEGIN
  DBMS_XSTREAM_AUTH.GRANT_ADMIN_PRIVILEGE(
    grantee                 => '${cdc_admin_user}',
    privilege_type          => 'CAPTURE',
    grant_select_privileges => TRUE,
    container               => 'ALL');
END;
/
GRANT CREATE SESSION, SET CONTAINER, SELECT_CATALOG_ROLE, SELECT ANY TABLE, LOCK ANY TABLE,
      FLASHBACK ANY TABLE TO ${cdc_connect_user} CONTAINER = ALL;

ALTER SESSION SET CONTAINER = ${pdb_name};
DECLARE
  v_exists PLS_INTEGER;
BEGIN
  SELECT COUNT(*) INTO v_exists FROM dba_users WHERE username = '${app_schema}';
  EXECUTE IMMEDIATE CASE v_exists WHEN 0 THEN 'CREATE' ELSE 'ALTER' END
    || ' USER ${app_schema} IDENTIFIED BY "&app_password" DEFAULT TABLESPACE users QUOTA UNLIMITED ON users';
END;
/
-- What Django's migrate needs on Oracle (its docs list these four plus CREATE SESSION).
GRANT CREATE SESSION, CREATE TABLE, CREATE SEQUENCE, CREATE TRIGGER, CREATE PROCEDURE TO ${app_schema};
EXIT
