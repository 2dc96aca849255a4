package main

import "github.com/jcds2-uploader/jcds2-uploader/processor"

// suggest names the command a mistyped one was probably meant to be.
func suggest(word string, names []string, synonyms map[string]string) string {
	if s, ok := synonyms[word]; ok {
		return s
	}
	return processor.Suggest(word, names)
}
