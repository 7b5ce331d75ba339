return {
  extends = "enterprise",
  max_cpu_percent = 60,
  blocked_modules = {"debug", "ffi", "io", "os", "package", "socket"},
}
