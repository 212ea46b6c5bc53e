"""Repeat-transaction ("buy till you die") models for fee-earning services."""
