"""The Textual lab screen: ``create_app()`` builds it, ``run_app(args)`` runs it (``kafkalab sandbox``)."""
