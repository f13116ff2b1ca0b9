"""The Jinja2 environment shared by pages and lesson rendering (autoescape on)."""

from fastapi.templating import Jinja2Templates

from app.assets import asset_url, import_map_json
from app.config import ROOT

templates = Jinja2Templates(directory=ROOT / "templates")
templates.env.globals["asset"] = asset_url
templates.env.globals["import_map_json"] = import_map_json
