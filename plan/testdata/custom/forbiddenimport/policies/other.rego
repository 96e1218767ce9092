package permsets.custom.other

import data.other.secrets

deny contains {"code": "peek", "message": "reads other data"} if {
	count(secrets) > 0
}
