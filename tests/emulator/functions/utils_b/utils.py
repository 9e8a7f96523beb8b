WHO = "package B"
