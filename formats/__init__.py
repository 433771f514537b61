"""Low-level helpers every layer may use: time formatting in Asia/Tomsk, spreadsheets in and out,
the PDF font, class names and phone numbers as people type them, input character and range
checks, log redaction. This package imports nothing from the project except ``errors``: never
``models``, ``checkin``, ``reports`` or ``webapp`` (an import-linter contract checks it)."""
