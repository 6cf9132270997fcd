"""govnews's data files (portal registry, CMS presets), installed as the package ``govnews_data``."""
