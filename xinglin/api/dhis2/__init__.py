"""A DHIS2-compatible face over Xinglin's aggregate data (issue 23): the paths, parameters,
bodies and answers DHIS2 clients and scripts use (`/api/dataValueSets`, `/api/{version}/…`,
`/api/system/info`, `/api/me`, read-only metadata), over the same scoped accounts and the
same one write (`collection.actions.write`) as the rest of the API. Plain Django views:
DHIS2's parameter conventions (booleans `t`/`f`, case-insensitive id schemes, refusal of
unknown parameters) are checked here, by name, rather than by a schema."""
