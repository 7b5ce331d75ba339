return {id = "hostile.exec_os_execute", version = "1.0.0", entry = "attack",
        description = "Exec of a program through os.execute (allow_subprocess = false)"}
