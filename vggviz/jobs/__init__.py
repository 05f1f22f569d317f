"""Long work outside the Streamlit script run: a picklable function runs in a worker process (multiprocessing's
spawn context) with a bounded number of threads, one job at a time per machine, behind a visible queue, its
progress streamed back, cancellable. Generic (``worker``, ``slots``, ``queue``, ``settings``); ``training`` is
the one kind of job the app runs today (the Train page)."""
