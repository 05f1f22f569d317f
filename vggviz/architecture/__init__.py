"""The network itself, torch-free except ``model``: Table 1 as data, the analytic layer table, the lecture's arithmetic, tables and charts."""
