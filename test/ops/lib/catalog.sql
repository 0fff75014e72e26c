-- A canonical description of everything the extension installs, one line per
-- property, by name (never by OID): used to compare a database upgraded
-- through the order_credit--A--B.sql chain with a fresh install of the
-- newest version (test/ops/upgrade.sh). Functions with their signature,
-- result, volatility, strictness, parallel safety, security, proconfig, body
-- or C symbol, grants and comments; tables and views with columns, defaults,
-- identity, constraints, indexes, triggers, rules, replica identity, access
-- method, options, grants and comments; sequences' parameters (not their
-- position); types; the schema; what pg_dump dumps (extconfig).
WITH members AS (
    SELECT d.classid, d.objid
      FROM pg_depend d
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'order_credit')
), fns AS (
    SELECT p.* FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
), rels AS (
    SELECT c.* FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
), typs AS (
    SELECT t.* FROM pg_type t JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
), lines(line) AS (
    SELECT 'extension ' || extname || ' version ' || extversion || ' schema ' || extnamespace::regnamespace
           || ' relocatable ' || extrelocatable
      FROM pg_extension WHERE extname = 'order_credit'
    UNION ALL
    SELECT 'dumped ' || c.oid::regclass || ' where ' || quote_literal(x.cond)
      FROM pg_extension e, unnest(e.extconfig, e.extcondition) x(oid, cond) JOIN pg_class c ON c.oid = x.oid
     WHERE e.extname = 'order_credit'
    UNION ALL
    SELECT 'schema ' || n.nspname || ' owner-is-superuser ' || r.rolsuper || ' acl ' || coalesce(n.nspacl::text, '-')
           || ' comment ' || coalesce(obj_description(n.oid, 'pg_namespace'), '-')
      FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
     WHERE n.oid IN (SELECT objid FROM members WHERE classid = 'pg_namespace'::regclass)
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure || ' kind ' || p.prokind::text || ' acl ' || coalesce(p.proacl::text, '-')
           || ' comment ' || coalesce(obj_description(p.oid, 'pg_proc'), '-') || E'\n'
           || CASE WHEN p.prokind = 'a' THEN '(aggregate)' ELSE pg_get_functiondef(p.oid) END
      FROM fns p
    UNION ALL
    SELECT 'relation ' || c.oid::regclass || ' kind ' || c.relkind::text || ' persistence ' || c.relpersistence::text
           || ' replident ' || c.relreplident::text || ' am ' || coalesce(am.amname, '-')
           || ' options ' || coalesce(c.reloptions::text, '-') || ' acl ' || coalesce(c.relacl::text, '-')
           || ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '-')
      FROM rels c LEFT JOIN pg_am am ON am.oid = c.relam
    UNION ALL
    SELECT 'column ' || c.oid::regclass || '.' || a.attname || ' #' || a.attnum || ' ' || format_type(a.atttypid, a.atttypmod)
           || ' notnull ' || a.attnotnull || ' identity ' || quote_literal(a.attidentity::text)
           || ' generated ' || quote_literal(a.attgenerated::text) || ' collation ' || coalesce(a.attcollation::regcollation::text, '-')
           || ' default ' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-') || ' acl ' || coalesce(a.attacl::text, '-')
           || ' comment ' || coalesce(col_description(c.oid, a.attnum), '-')
      FROM rels c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
    UNION ALL
    SELECT 'constraint ' || c.oid::regclass || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
           || ' deferrable ' || k.condeferrable || ' validated ' || k.convalidated
           || ' comment ' || coalesce(obj_description(k.oid, 'pg_constraint'), '-')
      FROM rels c JOIN pg_constraint k ON k.conrelid = c.oid
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid) || ' comment ' || coalesce(obj_description(i.indexrelid, 'pg_class'), '-')
      FROM rels c JOIN pg_index i ON i.indrelid = c.oid
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
      FROM rels c JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT 'rule ' || pg_get_ruledef(r.oid)
      FROM rels c JOIN pg_rewrite r ON r.ev_class = c.oid
    UNION ALL
    SELECT 'view ' || c.oid::regclass || E'\n' || pg_get_viewdef(c.oid)
      FROM rels c WHERE c.relkind IN ('v', 'm')
    UNION ALL
    SELECT 'sequence ' || s.seqrelid::regclass || ' ' || format_type(s.seqtypid, NULL) || ' start ' || s.seqstart
           || ' increment ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache
           || ' cycle ' || s.seqcycle
      FROM rels c JOIN pg_sequence s ON s.seqrelid = c.oid
    UNION ALL
    SELECT 'type ' || t.oid::regtype || ' kind ' || t.typtype::text || ' acl ' || coalesce(t.typacl::text, '-')
           || ' comment ' || coalesce(obj_description(t.oid, 'pg_type'), '-')
      FROM typs t
    UNION ALL
    SELECT 'member ' || pg_describe_object(m.classid, m.objid, 0) FROM members m
)
SELECT line FROM lines ORDER BY line;
