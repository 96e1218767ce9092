package permsets.custom.peek

import data.permsets_index

deny contains {"code": "peek", "message": "reads the decision index"} if {
	count(permsets_index) > 0
}
