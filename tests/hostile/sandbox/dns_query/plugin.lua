return {id = "hostile.dns_query", version = "1.0.0", entry = "attack",
        description = "A DNS query (A example.com) to a resolver on the host's loopback"}
