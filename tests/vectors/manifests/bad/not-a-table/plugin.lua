return "not-a-table"
