return {id = "hostile.unix_connect", version = "1.0.0", entry = "attack",
        description = "Connect to a host service's unix socket (a pathname socket, mode 0777)"}
