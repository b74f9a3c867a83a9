"""Work across records, modules and time: declared workflows, sagas, and the one scheduler
(a due job runs once across replicas)."""
