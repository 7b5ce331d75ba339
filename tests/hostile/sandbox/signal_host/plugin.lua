return {id = "hostile.signal_host", version = "1.0.0", entry = "attack",
        description = "Signals to the host: kill(host pid, 0) and SIGCONT from a child"}
