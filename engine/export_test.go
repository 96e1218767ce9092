package engine

// FastCell is the fast table's cell for (instance, user, permission); false when the user has
// no row there.
func FastCell(idx *Index, instance, user, perm string) (string, bool) {
	row, ok := idx.instances[instance].Fast[user]
	if !ok {
		return "", false
	}
	return row[idx.catalog.Positions[perm]:][:2], true
}
