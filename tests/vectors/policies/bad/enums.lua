return {
  isolation_level = "PROCES",
  enforcement = "best-effort",
}
-- expect: 2: isolation_level: unknown isolation level "PROCES"; expected one of NONE, PROCESS, CONTAINER (did you mean 'PROCESS'?)
-- expect: 3: enforcement: unknown enforcement "best-effort"; expected one of strict, best_effort (did you mean 'best_effort'?)
