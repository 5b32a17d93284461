-- Number 3 is taken by the OpenID Connect login's migration, merged from another branch. This
-- file only keeps the sequence whole until then and is removed when that migration arrives.
SELECT 1;
