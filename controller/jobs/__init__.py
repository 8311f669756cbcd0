"""Jobs: submission, planning into tasks, dispatch, results, merging, callbacks and the job routes."""
