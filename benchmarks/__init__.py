"""Benchmarks of synthbalance against SMOTE and SDV's CTGAN on real data.

``python -m benchmarks.brfss`` runs the BRFSS 2015 diabetes benchmark and writes
``docs/benchmarks.md``; see ``benchmarks/README.md``. Nothing here is imported by the
package itself: the benchmarks are a client of ``synthbalance.core``, as a user would be.
"""
