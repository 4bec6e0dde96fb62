"""reconcile: bank-transfer reconciliation for Indonesian billing.

Flow: importers (mutasi rekening, invoices, confirmations) -> validate -> store ->
match (pure core: normalize, candidates, scoring, assign) -> decisions -> reports.
"""

__version__ = "0.1.0"
