return {
  isolation_level = "vm",
  enforcement = "lenient",
}
-- expect: 2: isolation_level: unknown isolation level "vm"; expected one of NONE, PROCESS, CONTAINER
-- expect: 3: enforcement: unknown enforcement "lenient"; expected one of strict, best_effort
