return {id = "hostile.tcp_connect", version = "1.0.0", entry = "attack",
        description = "TCP connect to a listener on the host's loopback"}
