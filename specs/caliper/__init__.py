"""Caliper 1.2 and Webhooks (Timeback flavour).

* `_events.py`: the compact declaration of every Caliper 1.2 event and entity type and of the
  Timeback profile (actions, profiles, entity types of actor/object/generated/target/referrer);
* `events.py`: the JSON Schemas built from it (`events.schema.json`);
* `validate.py`: the validator the sandbox's ingestion and `tbconform validate caliper` share;
* `_generate.py` and the YAML files: the OpenAPI specs of the Caliper and Webhooks services.
"""
