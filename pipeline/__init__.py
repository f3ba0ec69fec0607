"""paperlake: a queryable, versioned record of trending research papers."""
