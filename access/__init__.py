"""The access kernel: who may do what (``roles``), which rows they see (``scoping``), which
allocation details they see (``blinding``) and the base views that go through them
(``views``). Every page, API serializer, export, notification and history view asks this
package; nothing else decides."""
