"""What every app's pages share and that belongs to no domain app: form widgets.

Django only, no models, no project import (it sits at the bottom of the layers, with
``audit``; README "Architecture")."""
