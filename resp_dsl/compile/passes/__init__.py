"""Graph passes, applied in order after lowering (one pass per module)."""

from resp_dsl.compile.passes.share_prefixes import share_prefixes
from resp_dsl.compile.passes.readable_ids import readable_ids

PASSES = (share_prefixes, readable_ids)
