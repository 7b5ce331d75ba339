return {id = "hostile.udp_send", version = "1.0.0", entry = "attack",
        description = "UDP datagram to a listener on the host's loopback"}
