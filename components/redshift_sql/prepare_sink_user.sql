-- The Redshift sink connector's own database user, and only the rights it needs: USAGE and CREATE on the
-- target schema (the connector creates and evolves its tables there and owns them), nothing elsewhere.
-- Its search_path is that schema alone, so the unqualified table names the connector uses (table.name.format
-- ${topic}) resolve and are created there, whether or not the connector would split a dotted name.
-- The stack calls this through the Redshift Data API whenever that call is (re)created, so every step is
-- safe to repeat: Redshift has no CREATE USER IF NOT EXISTS, hence the check against pg_user. The
-- password arrives pre-hashed ('md5' followed by md5(password || user_name)), never in clear text.
CREATE OR REPLACE PROCEDURE public.fraud_prepare_sink_user(
    user_name VARCHAR(127),
    password_hash VARCHAR(35),
    target_schema VARCHAR(127),
    connection_limit INTEGER
)
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_user WHERE usename = user_name) THEN
        EXECUTE 'ALTER USER ' || quote_ident(user_name) || ' PASSWORD ' || quote_literal(password_hash);
    ELSE
        EXECUTE 'CREATE USER ' || quote_ident(user_name) || ' PASSWORD ' || quote_literal(password_hash);
    END IF;
    EXECUTE 'ALTER USER ' || quote_ident(user_name) || ' CONNECTION LIMIT ' || CAST(connection_limit AS VARCHAR);
    -- Redshift's ALTER USER takes SET parameter { TO | = } { value | DEFAULT }
    -- (https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_USER.html, read 2026-12-01): the user's session
    -- default, so it holds from the sink's next connection. An object created without a schema goes to the
    -- first schema of search_path (https://docs.aws.amazon.com/redshift/latest/dg/r_search_path.html).
    EXECUTE 'ALTER USER ' || quote_ident(user_name) || ' SET search_path TO ' || quote_ident(target_schema);
    -- Redshift lets every user create objects in the public schema; the sink writes to its schema only.
    EXECUTE 'REVOKE CREATE ON SCHEMA public FROM PUBLIC';
    EXECUTE 'GRANT USAGE, CREATE ON SCHEMA ' || quote_ident(target_schema) || ' TO ' || quote_ident(user_name);
END;
$$ LANGUAGE plpgsql;
