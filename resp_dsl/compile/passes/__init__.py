"""Graph passes, applied in order after lowering (one pass per module)."""

from resp_dsl.compile.passes.share_prefixes import share_prefixes
from resp_dsl.compile.passes.readable_ids import readable_ids
from resp_dsl.compile.passes.label_reports import label_reports

PASSES = (share_prefixes, readable_ids, label_reports)
