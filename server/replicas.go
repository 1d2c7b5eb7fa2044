package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/alertgate/alertgate/store"
)

// replicasResponse is the body of GET /api/v1/replicas.
type replicasResponse struct {
	Replicas []store.Replica `json:"replicas"`
	// SameConfig is false when live replicas run different configs.
	SameConfig bool `json:"same_config"`
}

// listReplicas handles GET /api/v1/replicas: the live gateway processes
// on this database, which one leads, and whether they run one config.
func (s *Server) listReplicas(c *fiber.Ctx) error {
	list, err := s.replicas.Replicas(c.UserContext())
	if err != nil {
		return err
	}
	same := true
	for _, r := range list {
		same = same && r.ConfigHash == list[0].ConfigHash
	}
	return c.JSON(replicasResponse{Replicas: list, SameConfig: same})
}
