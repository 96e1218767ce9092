package permsets.custom.nocode

warn contains {"message": "a finding without a code"} if true
