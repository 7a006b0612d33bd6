"""Reports (issue 27): figures kept up to date from MessengerTable's stream, read back by the summary and dialogs
endpoints without scanning messages (``figures`` per chat, ``histogram`` for medians and p90s, ``store`` the
ReportsTable, ``consumer`` the stream handler, ``service`` the reports, ``csv_export`` the Excel CSV)."""
