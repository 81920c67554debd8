"""Indicator search at 100,000 indicators (issue 17): CJK bigrams, and indexes the app's role can use.

Two things kept PostgreSQL from serving `q` with an index. A two-character Chinese term (培训) has no
trigram, so the `pg_trgm` indexes of 0003 could not serve it. And under row-level security (0017)
no index serves any of it: PostgreSQL evaluates a query's own conditions after the policy's unless
their operators are LEAKPROOF — LIKE and array containment are not (only a superuser may mark
them) — so for `jixiao_app` every search was a scan of the whole library, policy and LIKEs row by
row (EXPLAIN as the app's role: `Seq Scan on indicators`, whatever the term).

So the search reads an index kept beside the table and behind the same walls:

* `jixiao_search.indicator_text` — per indicator: its owner, `shared`, the four Chinese fields
  (name, explanation, 共性类别, 行业领域), the pinyin keys and the code. GIN on its CJK bigrams
  (`jixiao_search.bigrams`): every two adjacent characters of each Chinese field, pairs never
  straddling two fields — so that `@> ARRAY['培训']` is exactly "one of the four fields contains
  培训" (longer terms: all their pairs, confirmed by LIKE); trigram GIN on the pinyin keys and on
  the code; each with its owner as a second column (`tenant:3`, `shared`), so that the same index
  scan keeps only what a county may read. In a schema of its own, which the app's role may not
  use, with no row-level security: its owner (the migrations' user) reads it by index.
* kept by triggers on `indicators` — by the database on every write, whatever path writes (ORM,
  bulk Core, SQL): statement-level on insert and delete (transition tables, one statement for a
  whole batch), row-level on an update that changes a mirrored column, and on truncate.
* read only through SECURITY DEFINER functions that `jixiao_app` alone may execute:
  `jixiao_indicators_containing(term)` (the four Chinese fields), `jixiao_indicators_spelled(typed)`
  and `jixiao_indicators_spelled_words(typed, most)` (the pinyin keys; the latter with where the
  words a pinyin spells are read), `jixiao_indicators_coded(fragment)` (the code, any case). They answer only with what the library's row-level security
  lets the session read (0017's policy on `indicators`: BYPASS, or the tenant's subtree and
  lineage, or the shared library for an evaluator — from the same per-transaction settings); the
  app then reads those ids from `indicators` by primary key — an equality, which an index may serve
  under the policy — behind both walls as before (services/indicators/search.py).

The trigram indexes of 0003 on `indicators` served nothing the app ran: dropped (every write paid
for them). SQLite (embedded, small): nothing — it matches with LIKE.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

from jixiao.platform.core import rls

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ROLE = "jixiao_app"  # as in 0017
MIRRORED = (
    "tenant_id", "shared", "name", "explanation", "common_class", "category", "name_pinyin",
    "name_initials", "code",
)  # fmt: skip
CHINESE = ("name", "explanation", "common_class", "category")
TRIGRAMS_0003 = ("name", "explanation", "name_pinyin", "name_initials")
GATES = (
    "jixiao_indicators_containing(text)",
    "jixiao_indicators_spelled(text)",
    "jixiao_indicators_coded(text)",
    "jixiao_indicators_spelled_words(text, integer)",
)
SAFE_PATH = "SET search_path = pg_catalog, public, pg_temp"
# what the GIN indexes hold, and a query must spell the same to use them
PAIRS = f"jixiao_search.bigrams({', '.join(CHINESE)})"
OWNER = "jixiao_search.owner(tenant_id, shared)"
SPELLED = "'name_pinyin LIKE $1 OR name_initials LIKE $1'"


def _columns(prefix: str = "") -> str:
    return ", ".join(f"{prefix}{c}" for c in MIRRORED)


def _like_any(param: str) -> str:
    return " OR ".join(f"{c} LIKE {param}" for c in CHINESE)


# the conditions of a row the session may read, on the parameters $3-$5 of `session_walls`
WALLS = f"(tenant_id = ANY($3) OR ($4 AND shared)) AND {OWNER} && $5"
# Each lookup runs with these: the conditions of the gates are index-shaped (but LIKE of a single
# character), pg_trgm's estimates for LIKE are rough and reading the whole mirror instead costs
# 50-80 ms at 100k, so no sequential scan while another path exists; no parallel workers (their
# start costs more than these lookups); no JIT (a disabled path's cost would set it compiling).
LOOKUP = "SET max_parallel_workers_per_gather = 0 SET enable_seqscan = off SET jit = off"

STATEMENTS = [
    "CREATE SCHEMA jixiao_search",
    # -- the keys ------------------------------------------------------------------------------------
    """CREATE FUNCTION jixiao_search.bigrams(VARIADIC fields text[]) RETURNS text[]
       LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1000 AS $$
       DECLARE
           pairs text[] := '{}';
           field text;
           i integer;
       BEGIN
           FOREACH field IN ARRAY fields LOOP
               CONTINUE WHEN field IS NULL;
               FOR i IN 1 .. length(field) - 1 LOOP
                   pairs := pairs || substr(field, i, 2);
               END LOOP;
           END LOOP;
           RETURN pairs;
       END $$""",
    # who may read a row, as index keys: its owner (`tenant:3`) and, shared, `shared` — the second
    # column of the GIN indexes, so that one index scan keeps only what a county may read
    """CREATE FUNCTION jixiao_search.owner(tenant_id integer, shared boolean) RETURNS text[]
       LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
       SELECT ARRAY['tenant:' || tenant_id] || CASE WHEN shared THEN ARRAY['shared'] ELSE '{}'::text[] END $$""",
    # LIKE's pattern for "contains `term`" (backslash is LIKE's default escape)
    r"""CREATE FUNCTION jixiao_search.containing(term text) RETURNS text
       LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
       $$ SELECT '%' || replace(replace(replace(term, '\', '\\'), '%', '\%'), '_', '\_') || '%' $$""",
    # -- the mirror ----------------------------------------------------------------------------------
    """CREATE TABLE jixiao_search.indicator_text (
           id integer PRIMARY KEY,
           tenant_id integer NOT NULL,
           shared boolean NOT NULL,
           name text NOT NULL,
           explanation text NOT NULL,
           common_class text,
           category text,
           name_pinyin text NOT NULL,
           name_initials text NOT NULL,
           code text NOT NULL
       )""",
    f"INSERT INTO jixiao_search.indicator_text (id, {_columns()}) SELECT id, {_columns()} FROM public.indicators",
    f"CREATE INDEX indicator_text_pairs ON jixiao_search.indicator_text USING gin ({PAIRS}, {OWNER})",
    *(
        f"CREATE INDEX indicator_text_{c} ON jixiao_search.indicator_text USING gin ({c} public.gin_trgm_ops, {OWNER})"
        for c in ("name_pinyin", "name_initials", "code")
    ),
    *(
        f"CREATE INDEX indicator_text_{c} ON jixiao_search.indicator_text ({c})"
        for c in ("common_class", "category")
    ),
    # -- kept by the database ------------------------------------------------------------------------
    f"""CREATE FUNCTION jixiao_search.indicators_added() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER {SAFE_PATH} AS $$
        BEGIN
            INSERT INTO jixiao_search.indicator_text (id, {_columns()}) SELECT id, {_columns()} FROM added;
            RETURN NULL;
        END $$""",
    f"""CREATE FUNCTION jixiao_search.indicator_changed() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER {SAFE_PATH} AS $$
        BEGIN
            IF NEW.id <> OLD.id THEN
                DELETE FROM jixiao_search.indicator_text WHERE id = OLD.id;
            END IF;
            INSERT INTO jixiao_search.indicator_text (id, {_columns()}) VALUES (NEW.id, {_columns("NEW.")})
            ON CONFLICT (id) DO UPDATE SET ({_columns()}) = ({_columns("EXCLUDED.")});
            RETURN NULL;
        END $$""",
    f"""CREATE FUNCTION jixiao_search.indicators_removed() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER {SAFE_PATH} AS $$
        BEGIN
            DELETE FROM jixiao_search.indicator_text WHERE id IN (SELECT id FROM removed);
            RETURN NULL;
        END $$""",
    f"""CREATE FUNCTION jixiao_search.indicators_truncated() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER {SAFE_PATH} AS $$
        BEGIN
            TRUNCATE jixiao_search.indicator_text;
            RETURN NULL;
        END $$""",
    """CREATE TRIGGER jixiao_search_added AFTER INSERT ON public.indicators
       REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION jixiao_search.indicators_added()""",
    f"""CREATE TRIGGER jixiao_search_changed AFTER UPDATE ON public.indicators FOR EACH ROW
        WHEN ((OLD.id, {_columns("OLD.")}) IS DISTINCT FROM (NEW.id, {_columns("NEW.")}))
        EXECUTE FUNCTION jixiao_search.indicator_changed()""",
    """CREATE TRIGGER jixiao_search_removed AFTER DELETE ON public.indicators
       REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION jixiao_search.indicators_removed()""",
    """CREATE TRIGGER jixiao_search_truncated AFTER TRUNCATE ON public.indicators
       FOR EACH STATEMENT EXECUTE FUNCTION jixiao_search.indicators_truncated()""",
    # -- read behind the walls -----------------------------------------------------------------------
    # What the library's row-level security lets this session read (0017: indicators' _LIBRARY
    # policy, BYPASS OR subtree OR lineage OR shared_for_evaluator), from the same settings: all
    # of it, or the tenants it reads, and for an evaluator the shared rows — as ids and as the
    # owner keys the indexes hold.
    f"""CREATE FUNCTION jixiao_search.session_walls(
            OUT everyone boolean, OUT readable integer[], OUT evaluator boolean, OUT owners text[]
        ) LANGUAGE plpgsql STABLE AS $$
        BEGIN
            evaluator := {rls.ME} IS NULL AND {rls.PROJECTS} IS NOT NULL;
            everyone := coalesce({rls.BYPASS}, false);
            IF NOT everyone THEN
                readable := ARRAY(
                    SELECT t.id FROM public.tenants t WHERE {rls.subtree("t.id")} OR {rls.lineage("t.id")}
                );
                everyone := cardinality(readable) = (SELECT count(*) FROM public.tenants);
                owners := ARRAY(SELECT 'tenant:' || r FROM unnest(readable) AS r);
                IF evaluator THEN
                    owners := owners || 'shared'::text;
                END IF;
            END IF;
        END $$""",
    # The mirrored rows meeting `condition` ($1: a LIKE pattern, $2: bigrams) that the session may
    # read: (id, name). Called only by the gates below, with their own constant conditions.
    f"""CREATE FUNCTION jixiao_search.readable(condition text, pattern text, pairs text[])
        RETURNS TABLE (id integer, name text) LANGUAGE plpgsql STABLE {LOOKUP} AS $$
        DECLARE
            w record := jixiao_search.session_walls();
        BEGIN
            RETURN QUERY EXECUTE
                'SELECT id, name FROM jixiao_search.indicator_text WHERE (' || condition || ')'
                || CASE WHEN w.everyone THEN '' ELSE ' AND {WALLS}' END
                USING pattern, pairs, w.readable, w.evaluator, w.owners;
        END $$""",
    # The distinct values of `tag` (common_class or category) the session may read: a loose index
    # scan, one probe a value (a library has a few dozen among 100k rows).
    f"""CREATE FUNCTION jixiao_search.tags(tag text) RETURNS SETOF text LANGUAGE plpgsql STABLE {LOOKUP} AS $$
        DECLARE
            w record := jixiao_search.session_walls();
            walls text := CASE WHEN w.everyone THEN '' ELSE ' AND {WALLS}' END;
        BEGIN
            RETURN QUERY EXECUTE format(
                'WITH RECURSIVE v(value) AS ('
                '  SELECT (SELECT min(%1$I) FROM jixiao_search.indicator_text WHERE true %2$s)'
                '  UNION ALL SELECT (SELECT min(%1$I) FROM jixiao_search.indicator_text'
                '                   WHERE %1$I > v.value %2$s) FROM v WHERE v.value IS NOT NULL'
                ') SELECT value FROM v WHERE value IS NOT NULL', tag, walls)
                USING NULL::text, NULL::text[], w.readable, w.evaluator, w.owners;
        END $$""",
    # the four Chinese fields (name, explanation, 共性类别, 行业领域) contain `term`
    f"""CREATE FUNCTION public.jixiao_indicators_containing(term text) RETURNS SETOF integer
        LANGUAGE sql STABLE SECURITY DEFINER {SAFE_PATH} ROWS 1000 AS $$
        SELECT id FROM jixiao_search.readable(
            CASE
                WHEN length(term) < 2 THEN '{_like_any("$1")}'
                WHEN length(term) = 2 THEN '{PAIRS} @> $2'
                ELSE '{PAIRS} @> $2 AND ({_like_any("$1")})'
            END,
            jixiao_search.containing(term),
            jixiao_search.bigrams(term)
        ) $$""",
    # the pinyin keys contain `typed` (full pinyin or initials, lower case, no spaces)
    f"""CREATE FUNCTION public.jixiao_indicators_spelled(typed text) RETURNS SETOF integer
        LANGUAGE sql STABLE SECURITY DEFINER {SAFE_PATH} ROWS 1000 AS $$
        SELECT id FROM jixiao_search.readable({SPELLED}, jixiao_search.containing(typed), NULL) $$""",
    # the code contains `fragment`, in any case
    f"""CREATE FUNCTION public.jixiao_indicators_coded(fragment text) RETURNS SETOF integer
        LANGUAGE sql STABLE SECURITY DEFINER {SAFE_PATH} ROWS 100 AS $$
        SELECT id FROM jixiao_search.readable('code ILIKE $1', jixiao_search.containing(fragment), NULL) $$""",
    # for a pinyin: the indicators whose pinyin keys contain `typed` (their ids, comma-separated),
    # and where the Chinese words it spells are read (texts) — their names (distinct, at most
    # `most`), then the 共性类别 and 行业领域 values: one lookup for both
    f"""CREATE FUNCTION public.jixiao_indicators_spelled_words(
            typed text, most integer, OUT ids text, OUT texts text[]
        ) LANGUAGE sql STABLE SECURITY DEFINER {SAFE_PATH} AS $$
        WITH spelled AS MATERIALIZED (
            SELECT id, name FROM jixiao_search.readable({SPELLED}, jixiao_search.containing(typed), NULL)
        )
        SELECT (SELECT string_agg(id::text, ',') FROM spelled),
               ARRAY(SELECT DISTINCT name FROM spelled LIMIT most)
               || ARRAY(SELECT jixiao_search.tags('common_class'))
               || ARRAY(SELECT jixiao_search.tags('category')) $$""",
    *(f"REVOKE ALL ON FUNCTION public.{gate} FROM PUBLIC" for gate in GATES),
    *(f"GRANT EXECUTE ON FUNCTION public.{gate} TO {ROLE}" for gate in GATES),
    # -- what no longer serves -----------------------------------------------------------------------
    *(f"DROP INDEX IF EXISTS ix_indicators_{c}_trgm" for c in TRIGRAMS_0003),
    "ANALYZE jixiao_search.indicator_text",
]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgres():
        for statement in STATEMENTS:
            op.execute(statement)


def downgrade() -> None:
    if _postgres():
        for column in TRIGRAMS_0003:
            op.execute(
                f"CREATE INDEX IF NOT EXISTS ix_indicators_{column}_trgm ON indicators "
                f"USING gin ({column} gin_trgm_ops)"
            )
        for gate in GATES:
            op.execute(f"DROP FUNCTION IF EXISTS public.{gate}")
        for trigger in ("added", "changed", "removed", "truncated"):
            op.execute(f"DROP TRIGGER IF EXISTS jixiao_search_{trigger} ON public.indicators")
        op.execute("DROP SCHEMA IF EXISTS jixiao_search CASCADE")
