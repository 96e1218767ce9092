// Command permsctl validates, plans and publishes a permsets config repository.
package main

import "os"

func main() { os.Exit(run(os.Args[1:])) }
