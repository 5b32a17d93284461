module github.com/vakt/vakt

go 1.26

require (
	github.com/go-json-experiment/json v1.27.2 // indirect
	github.com/mattn/go-sqlite3 v1.14.53 // indirect
)
