"""Strategy: the segment policy, risk- and relationship-based pricing, credit limits and loan
application decisions (docs/strategy.md)."""
