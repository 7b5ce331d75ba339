return {id = "hostile.exec_shell", version = "1.0.0", entry = "attack",
        description = "Exec of a shell through io.popen (allow_subprocess = false)"}
