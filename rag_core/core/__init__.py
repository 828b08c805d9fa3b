"""The bottom layer, imported by every other: what flows between parts (`types`), the one error
hierarchy (`errors`), provider registries and the catalog of every provider (`registry`,
`catalog`), where files live (`paths`), bounded file reads and atomic writes (`files`), token
counting (`tokens`), word matching (`text`) and the outbound address guard (`safety`)."""
