WHO = "package A"
