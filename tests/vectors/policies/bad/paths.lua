-- Paths must be absolute and normalised; lists are lists.
return {
  allow_file_write = true,
  allowed_paths = {
    "data",
    "/srv/../etc",
    "",
    "/srv/ok",
    "/srv/ok/",
    "~/x",
    "/tab\there",
  },
  writable_paths = {"/tmp", x = "/var/tmp"},
}
-- expect: 5: allowed_paths[1]: expected an absolute path (starting with '/'), got the relative path "data"
-- expect: 6: allowed_paths[2]: expected a normalised absolute path without '..', got "/srv/../etc"
-- expect: 7: allowed_paths[3]: expected an absolute path, got an empty string
-- expect: 9: allowed_paths[5]: duplicate entry "/srv/ok" (also allowed_paths[4])
-- expect: 10: allowed_paths[6]: expected an absolute path (starting with '/'), got the relative path "~/x"
-- expect: 11: allowed_paths[7]: expected a path without control characters, got "/tab\x09here"
-- expect: 13: writable_paths.x: expected a list of absolute paths, without named keys; got the key "x"
