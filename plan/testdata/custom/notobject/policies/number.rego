package permsets.custom.number

deny contains 42 if true
